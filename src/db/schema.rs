//! Table definitions shared by both backends. Kept by hand in step with `migrations/`.

diesel::table! {
    organisations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        registration_no -> Text,
        province -> Text,
        contact_email -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        locale -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email -> Text,
        at -> Timestamp,
        address -> Text,
    }
}

diesel::table! {
    technologies (id) {
        id -> Text,
        institute_id -> Text,
        title_vi -> Text,
        title_en -> Text,
        summary_vi -> Text,
        summary_en -> Text,
        field -> Text,
        ip_type -> Text,
        ip_reference -> Text,
        valuation_minor -> BigInt,
        valuation_currency -> Text,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conversion_terms (id) {
        id -> Text,
        technology_id -> Text,
        version -> Integer,
        price_model -> Text,
        currency -> Text,
        body -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    agreements (id) {
        id -> Text,
        number -> Text,
        technology_id -> Text,
        institute_id -> Text,
        sme_id -> Text,
        insurer_id -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        terms_id -> Text,
        terms_version -> Integer,
        terms_snapshot -> Nullable<Text>,
        place_of_use -> Text,
        message -> Text,
        time_zone -> Text,
        requested_start -> Date,
        trial_start -> Nullable<Date>,
        trial_end -> Nullable<Date>,
        decision_deadline -> Nullable<Date>,
        extended -> Bool,
        sme_signed_at -> Nullable<Timestamp>,
        institute_signed_at -> Nullable<Timestamp>,
        closed_reason -> Nullable<Text>,
        requested_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        started_on -> Nullable<Date>,
        trial_ended_on -> Nullable<Date>,
        closed_at -> Nullable<Timestamp>,
        decision_days -> Nullable<Integer>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<Text>,
        actor_organisation_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        data -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(technologies -> organisations (institute_id));
diesel::joinable!(conversion_terms -> technologies (technology_id));
diesel::joinable!(agreements -> technologies (technology_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    sessions,
    login_failures,
    technologies,
    conversion_terms,
    agreements,
    counters,
    audit_head,
    audit_events,
    idempotency_keys,
);

diesel::table! {
    conversion_contracts (agreement_id) {
        agreement_id -> Text,
        currency -> Text,
        price_model -> Text,
        rounding -> Text,
        early_conversion_discount -> Nullable<Text>,
        total_minor -> BigInt,
        converted_on -> Date,
        royalty_rate -> Nullable<Text>,
        royalty_min_per_year -> Nullable<Text>,
        created_at -> Timestamp,
        tax_kind -> Nullable<Text>,
        tax_rate -> Nullable<Text>,
        tax_basis -> Nullable<Text>,
        tax_minor -> Nullable<BigInt>,
        royalty_next_close -> Nullable<Date>,
        first_revenue_on -> Nullable<Date>,
    }
}

diesel::table! {
    schedule_lines (agreement_id, number) {
        agreement_id -> Text,
        number -> Integer,
        kind -> Text,
        due -> Date,
        amount_minor -> BigInt,
        paid_minor -> BigInt,
        held -> Bool,
    }
}

diesel::joinable!(schedule_lines -> conversion_contracts (agreement_id));
diesel::allow_tables_to_appear_in_same_query!(conversion_contracts, schedule_lines, agreements);

diesel::table! {
    payments (id) {
        id -> Text,
        agreement_id -> Text,
        amount_minor -> BigInt,
        received_on -> Date,
        reference -> Text,
        to_institute -> Nullable<BigInt>,
        to_inventors -> Nullable<BigInt>,
        to_intermediary -> Nullable<BigInt>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_allocations (payment_id, line_number) {
        payment_id -> Text,
        line_number -> Integer,
        amount_minor -> BigInt,
    }
}

diesel::joinable!(payment_allocations -> payments (payment_id));
diesel::allow_tables_to_appear_in_same_query!(payments, payment_allocations);

diesel::table! {
    sales_reports (agreement_id, period_start) {
        agreement_id -> Text,
        period_start -> Date,
        period_end -> Date,
        net_sales_minor -> BigInt,
        royalty_minor -> BigInt,
        line_number -> Integer,
        reported_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    royalty_years (agreement_id, year) {
        agreement_id -> Text,
        year -> Integer,
        starts_on -> Date,
        ends_on -> Date,
        royalties_minor -> BigInt,
        minimum_minor -> BigInt,
        true_up_minor -> BigInt,
        line_number -> Nullable<Integer>,
        closed_at -> Timestamp,
    }
}
diesel::allow_tables_to_appear_in_same_query!(royalty_years, conversion_contracts, sales_reports);

diesel::table! {
    insurance_policies (id) {
        id -> Text,
        agreement_id -> Text,
        insurer_id -> Text,
        sme_id -> Text,
        product_id -> Nullable<Text>,
        product_version -> Nullable<Integer>,
        risks -> Text,
        currency -> Text,
        coverage_minor -> BigInt,
        premium_rate -> Text,
        deductible_minor -> BigInt,
        share_sme -> Text,
        share_institute -> Text,
        share_subsidy -> Text,
        subsidy_cap_minor -> Nullable<BigInt>,
        subsidy_year -> Integer,
        rounding -> Text,
        premium_minor -> BigInt,
        sme_pays_minor -> BigInt,
        institute_pays_minor -> BigInt,
        subsidy_minor -> BigInt,
        subsidy_capped_minor -> BigInt,
        status -> Text,
        bound_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_reason -> Nullable<Text>,
    }
}
diesel::allow_tables_to_appear_in_same_query!(insurance_policies, agreements);

diesel::table! {
    insurance_products (id, version) {
        id -> Text,
        version -> Integer,
        insurer_id -> Text,
        name_vi -> Text,
        name_en -> Text,
        risks -> Text,
        currency -> Text,
        premium_rate -> Text,
        max_coverage_minor -> BigInt,
        deductible_minor -> BigInt,
        share_sme -> Text,
        share_institute -> Text,
        share_subsidy -> Text,
        subsidy_cap_minor -> Nullable<BigInt>,
        active_from -> Date,
        active_until -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    agreement_insurance (agreement_id) {
        agreement_id -> Text,
        product_id -> Text,
        product_version -> Integer,
        coverage_minor -> BigInt,
        chosen_by_org -> Text,
        chosen_at -> Timestamp,
    }
}

diesel::table! {
    insurance_claims (id) {
        id -> Text,
        number -> Text,
        agreement_id -> Text,
        policy_id -> Text,
        insurer_id -> Text,
        claimant_org -> Text,
        risk -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        evidence -> Text,
        status -> Text,
        version -> BigInt,
        payout_minor -> Nullable<BigInt>,
        decision_reason -> Nullable<Text>,
        payment_reference -> Nullable<Text>,
        filed_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}
diesel::allow_tables_to_appear_in_same_query!(insurance_claims, agreements);
diesel::allow_tables_to_appear_in_same_query!(insurance_claims, insurance_policies);
diesel::allow_tables_to_appear_in_same_query!(agreement_insurance, insurance_products);
diesel::allow_tables_to_appear_in_same_query!(agreement_insurance, agreements);
diesel::allow_tables_to_appear_in_same_query!(insurance_products, agreements);
diesel::allow_tables_to_appear_in_same_query!(organisations, insurance_policies);
diesel::allow_tables_to_appear_in_same_query!(organisations, insurance_claims);

diesel::table! {
    job_runs (id) {
        id -> Text,
        job -> Text,
        slot -> Timestamp,
        triggered_by -> Text,
        instance -> Text,
        status -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        counts -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        message_id -> Text,
        kind -> Text,
        agreement_id -> Nullable<Text>,
        recipient_email -> Text,
        recipient_name -> Text,
        locale -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        attachments -> Nullable<Text>,
    }
}

diesel::table! {
    reminders (agreement_id, kind, offset_days, line_number) {
        agreement_id -> Text,
        kind -> Text,
        offset_days -> Integer,
        line_number -> Integer,
        sent_at -> Timestamp,
    }
}
diesel::allow_tables_to_appear_in_same_query!(reminders, schedule_lines);

diesel::table! {
    agreement_documents (agreement_id, version, kind, lang) {
        agreement_id -> Text,
        version -> BigInt,
        kind -> Text,
        lang -> Text,
        sha256 -> Text,
        pages -> Integer,
        pdf -> Binary,
        generated_at -> Timestamp,
        verify_code -> Nullable<Text>,
    }
}
diesel::joinable!(agreement_documents -> agreements (agreement_id));
diesel::allow_tables_to_appear_in_same_query!(agreement_documents, agreements);

diesel::table! {
    monthly_reports (id) {
        id -> Text,
        month -> Text,
        provisional -> Bool,
        generated_at -> Timestamp,
        json -> Text,
        json_sha256 -> Text,
    }
}

// Kept by the database's triggers on agreements, conversion_contracts, payments,
// insurance_policies and insurance_claims (migrations `…_report_tallies`); read by the report.
diesel::table! {
    report_tallies (measure, slot, k) {
        measure -> Text,
        slot -> Timestamp,
        k -> Text,
        n -> BigInt,
        amount -> BigInt,
        amount2 -> BigInt,
    }
}

diesel::table! {
    report_tallies_paused (since) {
        since -> Timestamp,
    }
}

diesel::table! {
    monthly_report_files (report_id, format, lang) {
        report_id -> Text,
        format -> Text,
        lang -> Text,
        sha256 -> Text,
        bytes -> Binary,
    }
}
diesel::joinable!(monthly_report_files -> monthly_reports (report_id));
diesel::allow_tables_to_appear_in_same_query!(monthly_report_files, monthly_reports);

diesel::table! {
    report_documents (verify_code) {
        verify_code -> Text,
        month -> Text,
        lang -> Text,
        provisional -> Bool,
        sha256 -> Text,
        generated_at -> Timestamp,
        report_id -> Nullable<Text>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}
diesel::joinable!(password_resets -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(password_resets, users);

diesel::table! {
    registrations (organisation_id) {
        organisation_id -> Text,
        user_id -> Text,
        sector -> Text,
        address -> Text,
        status -> Text,
        confirm_token_hash -> Text,
        confirm_expires_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
diesel::joinable!(registrations -> organisations (organisation_id));
diesel::joinable!(registrations -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(registrations, organisations);
diesel::allow_tables_to_appear_in_same_query!(registrations, users);

diesel::table! {
    invitations (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}
diesel::allow_tables_to_appear_in_same_query!(invitations, users);

diesel::table! {
    technology_screenings (id) {
        id -> Text,
        technology_id -> Text,
        technology_version -> BigInt,
        submitted_by -> Text,
        submitted_at -> Timestamp,
        outcome -> Nullable<Text>,
        trl -> Nullable<Integer>,
        rights_clear -> Nullable<Bool>,
        rights_clear_note -> Nullable<Text>,
        inventors_agree -> Nullable<Bool>,
        inventors_agree_note -> Nullable<Text>,
        valuation_basis -> Nullable<Bool>,
        valuation_basis_note -> Nullable<Text>,
        notes -> Nullable<Text>,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}
diesel::joinable!(technology_screenings -> technologies (technology_id));
diesel::allow_tables_to_appear_in_same_query!(technology_screenings, technologies);
diesel::allow_tables_to_appear_in_same_query!(conversion_contracts, technologies);

diesel::table! {
    contract_registrations (agreement_id) {
        agreement_id -> Text,
        jurisdiction -> Nullable<Text>,
        required -> Bool,
        reason -> Text,
        signed_on -> Date,
        deadline -> Nullable<Date>,
        takes_effect_on_certificate -> Bool,
        certificate_number -> Nullable<Text>,
        certificate_date -> Nullable<Date>,
        issuing_office -> Nullable<Text>,
        vat_exemption_ref -> Nullable<Text>,
        registered_at -> Nullable<Timestamp>,
        registered_by -> Nullable<Text>,
    }
}
diesel::joinable!(contract_registrations -> conversion_contracts (agreement_id));
diesel::allow_tables_to_appear_in_same_query!(contract_registrations, conversion_contracts);
diesel::allow_tables_to_appear_in_same_query!(contract_registrations, agreements);

diesel::table! {
    search_docs (id) {
        id -> BigInt,
        kind -> Text,
        doc_id -> Text,
        body -> Text,
        facets -> Text,
    }
}

diesel::table! {
    demands (id) {
        id -> Text,
        sme_id -> Text,
        title -> Text,
        description -> Text,
        sector -> Text,
        province -> Text,
        currency -> Text,
        budget_min_minor -> BigInt,
        budget_max_minor -> BigInt,
        wanted_by -> Date,
        visibility -> Text,
        status -> Text,
        closed_reason -> Nullable<Text>,
        agreement_id -> Nullable<Text>,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    demand_invitees (demand_id, institute_id) {
        demand_id -> Text,
        institute_id -> Text,
    }
}

diesel::table! {
    demand_proposals (id) {
        id -> Text,
        demand_id -> Text,
        institute_id -> Text,
        technology_id -> Text,
        message -> Text,
        status -> Text,
        agreement_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}
diesel::joinable!(demand_invitees -> demands (demand_id));
diesel::joinable!(demand_proposals -> demands (demand_id));
diesel::allow_tables_to_appear_in_same_query!(demands, demand_invitees, demand_proposals);
