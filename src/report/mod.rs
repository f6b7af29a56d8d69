//! report.json and report.html. (Not built yet.)
