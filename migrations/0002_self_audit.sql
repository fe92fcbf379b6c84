CREATE TABLE `audit_findings` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`wallet_id` text,
	`entry_seq` integer,
	`kind` text NOT NULL,
	`detail` text NOT NULL,
	`found_at` text NOT NULL
) STRICT;
--> statement-breakpoint
CREATE INDEX `audit_findings_wallet` ON `audit_findings` (`wallet_id`);--> statement-breakpoint
CREATE TABLE `verified_marks` (
	`wallet_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	`balance` integer NOT NULL,
	`verified_at` text NOT NULL,
	CONSTRAINT "verified_marks_seq" CHECK("verified_marks"."seq" >= 0)
) STRICT;
--> statement-breakpoint
CREATE TRIGGER audit_findings_no_update BEFORE UPDATE ON audit_findings
  BEGIN SELECT RAISE(ABORT, 'audit_findings is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER audit_findings_no_delete BEFORE DELETE ON audit_findings
  BEGIN SELECT RAISE(ABORT, 'audit_findings is append-only'); END;
