-- Sources may be sitemaps and section fronts too.
ALTER TABLE sources DROP CONSTRAINT IF EXISTS sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check
    CHECK (kind IN ('feed', 'page', 'sitemap', 'section'));
