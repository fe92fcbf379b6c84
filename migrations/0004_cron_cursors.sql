CREATE TABLE `cron_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`position` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "cron_cursors_name" CHECK("cron_cursors"."name" IN ('self_audit', 'recovery_sweep'))
) STRICT;
