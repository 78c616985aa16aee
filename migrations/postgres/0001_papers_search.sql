-- Full-text search over papers, the PostgreSQL side of SQLite's papers_fts (FTS5). A custom
-- migration: drizzle-kit has no generated tsvector columns; it diffs its own snapshots, which do not
-- know this column, so it never drops it. English stemming, as FTS5's porter tokenizer stems.
-- `<` and `>` become spaces first: PostgreSQL's parser reads `<…>` as an XML tag and drops it with
-- its words (`<script>alert(1)</script>`, `n<k and k>m`); FTS5 keeps them as words.
ALTER TABLE "papers" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (
	to_tsvector('english', translate(
		"title" || ' ' || "abstract" || ' ' || "authors" || ' ' || coalesce("ai_keywords", '') || ' ' || "categories",
		'<>', '  '))
) STORED;
--> statement-breakpoint
CREATE INDEX "papers_search_idx" ON "papers" USING gin ("search");
