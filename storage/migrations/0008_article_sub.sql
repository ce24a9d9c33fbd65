-- An inserted article 第N条之M keeps its M, so every label says 第N条之M and not 第N条.
ALTER TABLE consultation_articles ADD COLUMN sub INTEGER NOT NULL DEFAULT 0;
