-- What a ledger value covers ("since 2022", "in Europe", "new"; '' when its sentence says
-- nothing): a value is a change of another only within one scope.
ALTER TABLE ledger ADD COLUMN scope TEXT NOT NULL DEFAULT '';
