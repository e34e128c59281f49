"""The built-in resources' fast path: pages read (side by side where they can be) and turned into Arrow."""
