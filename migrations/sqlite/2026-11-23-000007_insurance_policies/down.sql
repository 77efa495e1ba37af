DROP TABLE insurance_policies;
