import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables of the exactly-once demo: `ledger_entries`, written by the transactional
 * transfer job in the transaction that completes it, and `import_lines`, written by the
 * resumable import one line per transaction, with its checkpoint. No unique constraint on
 * the job id on purpose: the demo shows that each job's rows exist once, not that a
 * constraint refused duplicates.
 */
export class CreateExactlyOnce1750000000002 implements MigrationInterface {
  readonly name = 'CreateExactlyOnce1750000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS ledger_entries (
        id         bigserial    PRIMARY KEY,
        job_id     uuid         NOT NULL,
        account    varchar(64)  NOT NULL,
        amount     integer      NOT NULL,
        attempt    integer      NOT NULL,
        created_at timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS ledger_entries_job ON ledger_entries (job_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS import_lines (
        id         bigserial    PRIMARY KEY,
        job_id     uuid         NOT NULL,
        line       integer      NOT NULL,
        attempt    integer      NOT NULL,
        created_at timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS import_lines_job ON import_lines (job_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP TABLE IF EXISTS ledger_entries, import_lines`,
    );
  }
}
