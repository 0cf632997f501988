import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A row of `users` (created by the demo migration CreateUsers1750000000000). */
@Entity({ name: 'users', synchronize: false })
export class User {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
