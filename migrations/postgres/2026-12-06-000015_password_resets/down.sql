DROP INDEX password_resets_user;
DROP TABLE password_resets;
