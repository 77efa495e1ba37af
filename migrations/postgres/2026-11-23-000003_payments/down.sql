DROP TABLE payment_allocations;
DROP TABLE payments;
