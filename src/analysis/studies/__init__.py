"""The studies built on the engine: hardware price shocks, China revenue exposure, the fact-check."""
