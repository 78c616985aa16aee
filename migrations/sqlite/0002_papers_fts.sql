-- Full-text index over papers, kept in step by triggers. A custom migration because drizzle has no
-- virtual tables; drizzle-kit generate diffs its own snapshots, so it never drops this table.
CREATE VIRTUAL TABLE `papers_fts` USING fts5(
	title, abstract, authors, ai_keywords, categories,
	content='papers', content_rowid='id',
	tokenize='porter unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `papers_fts_insert` AFTER INSERT ON `papers` BEGIN
	INSERT INTO papers_fts(rowid, title, abstract, authors, ai_keywords, categories)
	VALUES (new.id, new.title, new.abstract, new.authors, new.ai_keywords, new.categories);
END;
--> statement-breakpoint
CREATE TRIGGER `papers_fts_delete` AFTER DELETE ON `papers` BEGIN
	INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, ai_keywords, categories)
	VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.ai_keywords, old.categories);
END;
--> statement-breakpoint
CREATE TRIGGER `papers_fts_update` AFTER UPDATE OF title, abstract, authors, ai_keywords, categories ON `papers` BEGIN
	INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, ai_keywords, categories)
	VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.ai_keywords, old.categories);
	INSERT INTO papers_fts(rowid, title, abstract, authors, ai_keywords, categories)
	VALUES (new.id, new.title, new.abstract, new.authors, new.ai_keywords, new.categories);
END;
