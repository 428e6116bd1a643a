"""Company diagnostics (what a company does and wants to do, year after year) and matching with joint offers."""
