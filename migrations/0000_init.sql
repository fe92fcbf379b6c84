CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`transfer_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`user_id` text NOT NULL,
	`from_wallet_id` text,
	`to_wallet_id` text,
	`amount` integer NOT NULL,
	`currency` text,
	`failure_code` text,
	`created_at` text NOT NULL,
	CONSTRAINT "audit_log_kind" CHECK("audit_log"."kind" IN ('transfer', 'deposit', 'withdrawal')),
	CONSTRAINT "audit_log_status" CHECK("audit_log"."status" IN ('succeeded', 'failed')),
	CONSTRAINT "audit_log_amount" CHECK("audit_log"."amount" >= 1)
) STRICT;
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_id` ON `audit_log` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_transfer` ON `audit_log` (`transfer_id`);--> statement-breakpoint
CREATE INDEX `audit_log_from` ON `audit_log` (`from_wallet_id`);--> statement-breakpoint
CREATE INDEX `audit_log_to` ON `audit_log` (`to_wallet_id`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`wallet_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`kind` text NOT NULL,
	`amount` integer NOT NULL,
	`balance_after` integer NOT NULL,
	`transfer_id` text NOT NULL,
	`counterparty` text,
	`memo` text,
	`created_at` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`wallet_id`, `seq`),
	CONSTRAINT "ledger_entries_kind" CHECK("ledger_entries"."kind" IN ('deposit', 'withdrawal', 'transfer_in', 'transfer_out')),
	CONSTRAINT "ledger_entries_seq" CHECK("ledger_entries"."seq" >= 1),
	CONSTRAINT "ledger_entries_balance" CHECK("ledger_entries"."balance_after" >= 0)
) STRICT;
--> statement-breakpoint
CREATE INDEX `ledger_entries_transfer` ON `ledger_entries` (`transfer_id`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`revoked_at_ms` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
) STRICT;
--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`handle` text NOT NULL,
	`display_name` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text DEFAULT 'user' NOT NULL,
	`phone_cipher` text,
	`phone_key_id` text,
	`phone_index` text,
	`created_at` text NOT NULL,
	CONSTRAINT "users_role" CHECK("users"."role" IN ('user', 'auditor'))
) STRICT;
--> statement-breakpoint
CREATE UNIQUE INDEX `users_handle` ON `users` (`handle`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_phone_index` ON `users` (`phone_index`);--> statement-breakpoint
CREATE TABLE `wallets` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`currency` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
) STRICT;
--> statement-breakpoint
CREATE INDEX `wallets_owner` ON `wallets` (`owner_id`);