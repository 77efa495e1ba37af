DROP TABLE demand_proposals;
DROP TABLE demand_invitees;
DROP TABLE demands;
