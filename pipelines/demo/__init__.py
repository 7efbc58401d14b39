"""Built-in SYNTHETIC demo municipality "Demostad" (GM9999): seeded extracts plus planted truth."""
