DROP INDEX registrations_status;
DROP INDEX registrations_user;
DROP INDEX registrations_confirm;
DROP TABLE registrations;
