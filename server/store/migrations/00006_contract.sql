-- +goose Up
-- Contract and payment (issue 6): the tariff table, the declared cost of
-- the object that the fee is computed from, the contract offered when the
-- manager accepts the documentation, payments with their receipts, and the
-- PDF documents a worker renders after the commit. Money is in kopecks
-- (bigint), never floating point.

-- The tariff (docs/tariff.md): per expertise kind, brackets of the
-- declared construction cost. The bracket of a cost is the row with the
-- largest cost_from_kopecks not above it; the fee without VAT is
-- base_kopecks + (cost − cost_from_kopecks) × rate_ppm / 1 000 000.
CREATE TABLE tariff_rows (
    expertise_kind     text NOT NULL CHECK (expertise_kind IN ('project_docs','surveys','project_docs_surveys','estimate')),
    cost_from_kopecks  bigint NOT NULL CHECK (cost_from_kopecks >= 0),
    base_kopecks       bigint NOT NULL CHECK (base_kopecks >= 0),
    rate_ppm           bigint NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
    PRIMARY KEY (expertise_kind, cost_from_kopecks)
);
-- One row: the table's version (optimistic concurrency of the admin edit)
-- and who changed it last.
CREATE TABLE tariff_meta (
    id          integer PRIMARY KEY CHECK (id = 1),
    version     bigint NOT NULL DEFAULT 1,
    updated_by  bigint REFERENCES users(id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tariff_meta (id) VALUES (1);
-- Plausible defaults, continuous at every bracket boundary.
INSERT INTO tariff_rows VALUES
    ('project_docs',                      0,  15000000, 3000),
    ('project_docs',            10000000000,  45000000, 2000),
    ('project_docs',           100000000000, 225000000, 1000),
    ('project_docs_surveys',              0,  20000000, 3500),
    ('project_docs_surveys',    10000000000,  55000000, 2500),
    ('project_docs_surveys',   100000000000, 280000000, 1200),
    ('surveys',                           0,   8000000, 1000),
    ('surveys',                100000000000, 108000000,  500),
    ('estimate',                          0,   5000000,  800),
    ('estimate',               100000000000,  85000000,  400);

-- The payment side of one application: the declared estimated
-- construction cost and a revision that every change of the application's
-- cost, contract or payments bumps (clients keep the highest; commands on
-- the cost name it).
CREATE TABLE payment_accounts (
    app_id            bigint PRIMARY KEY REFERENCES applications(id),
    cost_kopecks      bigint CHECK (cost_kopecks > 0),
    cost_set_by       bigint REFERENCES users(id),
    cost_set_by_name  text NOT NULL DEFAULT '',
    cost_set_at       timestamptz,
    revision          bigint NOT NULL DEFAULT 1
);

-- Contract, invoice and receipt numbers run per kind and calendar year.
CREATE TABLE contract_numbers (
    prefix  text NOT NULL,
    year    integer NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (prefix, year)
);

-- The contract offered when the application moves to awaiting_contract;
-- one per application. The fee and the tariff bracket it came from are
-- copied, so later tariff edits never change an offered contract.
CREATE TABLE contracts (
    id                 bigserial PRIMARY KEY,
    app_id             bigint NOT NULL UNIQUE REFERENCES applications(id),
    number             text NOT NULL UNIQUE,
    invoice_number     text NOT NULL UNIQUE,
    status             text NOT NULL CHECK (status IN ('offered','accepted','cancelled')),
    cost_kopecks       bigint,          -- the declared cost used; NULL: none declared
    tariff_from        bigint NOT NULL,
    tariff_base        bigint NOT NULL,
    tariff_rate_ppm    bigint NOT NULL,
    fee_kopecks        bigint NOT NULL CHECK (fee_kopecks >= 0),
    vat_kopecks        bigint NOT NULL CHECK (vat_kopecks >= 0),
    total_kopecks      bigint NOT NULL CHECK (total_kopecks = fee_kopecks + vat_kopecks),
    offered_by         bigint REFERENCES users(id),
    offered_at         timestamptz NOT NULL,
    accepted_by        bigint REFERENCES users(id),
    accepted_by_name   text NOT NULL DEFAULT '',
    accepted_at        timestamptz
);

-- Money received for a contract: entered by a manager or reported by the
-- payment gateway, whose payment id is unique (a repeated callback is
-- recognised and applied once).
CREATE TABLE payments (
    id                  bigserial PRIMARY KEY,
    app_id              bigint NOT NULL REFERENCES applications(id),
    contract_id         bigint NOT NULL REFERENCES contracts(id),
    amount_kopecks      bigint NOT NULL CHECK (amount_kopecks > 0),
    paid_on             date NOT NULL,
    order_number        text NOT NULL DEFAULT '',
    source              text NOT NULL CHECK (source IN ('manual','gateway')),
    gateway_payment_id  text UNIQUE,
    gateway_body_sha256 text NOT NULL DEFAULT '',
    receipt_number      text NOT NULL UNIQUE,
    recorded_by         bigint REFERENCES users(id),
    recorded_by_name    text NOT NULL,
    created_at          timestamptz NOT NULL,
    CHECK ((source = 'gateway') = (gateway_payment_id IS NOT NULL))
);
CREATE INDEX payments_app_idx ON payments (app_id, id);

-- The PDFs: contract and invoice per contract, a receipt per payment.
-- sha256 stays NULL until the worker has rendered and stored the file
-- (attempts, next_at and locked_until schedule and lease that work, as for
-- notice letters in 00005).
CREATE TABLE contract_documents (
    id            bigserial PRIMARY KEY,
    app_id        bigint NOT NULL REFERENCES applications(id),
    contract_id   bigint NOT NULL REFERENCES contracts(id),
    payment_id    bigint REFERENCES payments(id),
    kind          text NOT NULL CHECK (kind IN ('contract','invoice','receipt')),
    sha256        text,
    size          bigint NOT NULL DEFAULT 0,
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz,
    locked_until  timestamptz,
    error         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    CHECK ((kind = 'receipt') = (payment_id IS NOT NULL))
);
CREATE UNIQUE INDEX contract_documents_once_idx ON contract_documents (contract_id, kind) WHERE kind <> 'receipt';
CREATE UNIQUE INDEX contract_documents_receipt_idx ON contract_documents (payment_id) WHERE kind = 'receipt';
CREATE INDEX contract_documents_pending_idx ON contract_documents (id) WHERE sha256 IS NULL;
CREATE INDEX contract_documents_app_idx ON contract_documents (app_id);

-- +goose Down
DROP TABLE contract_documents;
DROP TABLE payments;
DROP TABLE contracts;
DROP TABLE contract_numbers;
DROP TABLE payment_accounts;
DROP TABLE tariff_meta;
DROP TABLE tariff_rows;
