DROP INDEX technology_screenings_open;
DROP INDEX technology_screenings_technology;
DROP TABLE technology_screenings;
