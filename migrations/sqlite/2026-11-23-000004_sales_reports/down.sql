DROP TABLE sales_reports;
