-- A version that is stored but not trusted: a paywall, consent, login or bot-challenge page,
-- or text that shrank by more than half. It raises no alerts, and later versions are compared
-- with the last version that has no flag.
ALTER TABLE versions ADD COLUMN flag TEXT;
