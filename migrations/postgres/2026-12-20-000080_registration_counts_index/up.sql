-- The monthly report counts contract registrations that are required, by the day they were
-- signed, certified and due (`contracts::registration::counts_on`): a covering index of the
-- required ones alone, so the count never walks the registrations that need none (all of
-- them, for a contract of a result made without state funds).
CREATE INDEX contract_registrations_required ON contract_registrations (signed_on, certificate_date, deadline) WHERE required;
