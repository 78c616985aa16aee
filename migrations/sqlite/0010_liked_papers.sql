CREATE TABLE `liked_papers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscriber_id` integer NOT NULL,
	`arxiv_id` text NOT NULL,
	`paper_id` integer,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`paper_id`) REFERENCES `papers`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `liked_papers_subscriber_arxiv_unique` ON `liked_papers` (`subscriber_id`,`arxiv_id`);--> statement-breakpoint
CREATE INDEX `liked_papers_status_idx` ON `liked_papers` (`status`);