ALTER TABLE `audit_log` ADD `refund_of` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `payment_request_id` text;--> statement-breakpoint
CREATE INDEX `audit_log_refund_of` ON `audit_log` (`refund_of`);--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `refund_of` text;--> statement-breakpoint
CREATE UNIQUE INDEX `wallets_owner_currency` ON `wallets` (`owner_id`,`currency`);