-- +goose Up
-- Reports narrowed to one expert (server/store/reports.go) find the
-- applications that expert leads through this index, as they find the
-- section assignments through assignments_expert_idx.
CREATE INDEX applications_lead_idx ON applications (lead_expert_id) WHERE lead_expert_id IS NOT NULL;

-- +goose Down
DROP INDEX applications_lead_idx;
