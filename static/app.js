// Placeholder: the dashboard page script (replaced by the page worktree).
