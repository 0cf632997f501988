import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The demo's `users` table. Idempotent, like every demo migration. */
export class CreateUsers1750000000000 implements MigrationInterface {
  readonly name = 'CreateUsers1750000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS users (
        id         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
        email      varchar(320)  NOT NULL CONSTRAINT users_email_key UNIQUE,
        name       varchar(200)  NOT NULL,
        created_at timestamptz   NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS users`);
  }
}
