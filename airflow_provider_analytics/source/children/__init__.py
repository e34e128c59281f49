"""Resources read one parent record at a time (an alert's logs, a user's teams), resumably."""
