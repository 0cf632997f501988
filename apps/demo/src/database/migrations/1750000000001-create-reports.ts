import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The demo's `reports` table. `job_id` has no foreign key to `nest_jobs` on purpose: job
 * rows belong to the library and may be cleaned up while the report stays.
 */
export class CreateReports1750000000001 implements MigrationInterface {
  readonly name = 'CreateReports1750000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS reports (
        id          uuid         PRIMARY KEY,
        status      varchar(16)  NOT NULL DEFAULT 'queued'
                    CONSTRAINT reports_status_check CHECK (status IN ('queued', 'running', 'done', 'failed')),
        up_to       integer      NOT NULL,
        progress    integer      NOT NULL DEFAULT 0,
        result      jsonb,
        error       text,
        job_id      uuid         NOT NULL,
        created_at  timestamptz  NOT NULL DEFAULT now(),
        started_at  timestamptz,
        finished_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS reports`);
  }
}
