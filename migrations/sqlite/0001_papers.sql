CREATE TABLE `papers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`arxiv_id` text NOT NULL,
	`title` text NOT NULL,
	`abstract` text NOT NULL,
	`authors` text NOT NULL,
	`categories` text NOT NULL,
	`published_at` integer NOT NULL,
	`upvotes` integer DEFAULT 0 NOT NULL,
	`ai_summary` text,
	`ai_keywords` text,
	`github_repo` text,
	`project_page` text,
	`thumbnail` text,
	`source` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `papers_arxiv_id_unique` ON `papers` (`arxiv_id`);--> statement-breakpoint
CREATE INDEX `papers_first_seen_idx` ON `papers` (`first_seen_at`);--> statement-breakpoint
CREATE INDEX `papers_published_idx` ON `papers` (`published_at`);