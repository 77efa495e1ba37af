DROP INDEX invitations_user;
DROP TABLE invitations;
