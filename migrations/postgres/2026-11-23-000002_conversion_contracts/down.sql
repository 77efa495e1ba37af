DROP TABLE schedule_lines;
DROP TABLE conversion_contracts;
