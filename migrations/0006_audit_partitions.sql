-- Partitioned audit store (docs/architecture.md): a movement's audit row is listed by its home partition and
-- copied (home = 0) into the partition of each other wallet it left an entry in. Every existing row is a home
-- row. Written by hand: drizzle-kit rebuilds the table for a new column, which would drop the append-only
-- triggers of 0001; adding a column with a constant default rewrites nothing.
ALTER TABLE `audit_log` ADD `home` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_log_home_created` ON `audit_log` (`created_at`,`transfer_id`) WHERE "audit_log"."home" = 1;
