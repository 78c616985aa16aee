CREATE TABLE `digest_papers` (
	`digest_id` integer NOT NULL,
	`paper_id` integer NOT NULL,
	`subscriber_id` integer NOT NULL,
	`position` integer NOT NULL,
	`score` real NOT NULL,
	`topic` text,
	`matched` text NOT NULL,
	FOREIGN KEY (`digest_id`) REFERENCES `digests`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`paper_id`) REFERENCES `papers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `digest_papers_pk` ON `digest_papers` (`digest_id`,`position`);--> statement-breakpoint
CREATE INDEX `digest_papers_subscriber_paper_idx` ON `digest_papers` (`subscriber_id`,`paper_id`);--> statement-breakpoint
CREATE TABLE `digests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscriber_id` integer NOT NULL,
	`local_date` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`window_start` integer NOT NULL,
	`planned_at` integer NOT NULL,
	`sending_at` integer,
	`sent_at` integer,
	`message_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`paper_count` integer DEFAULT 0 NOT NULL,
	`error` text,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `digests_subscriber_date_unique` ON `digests` (`subscriber_id`,`local_date`);--> statement-breakpoint
CREATE INDEX `digests_status_idx` ON `digests` (`status`,`id`);