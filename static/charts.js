// Placeholder: chart drawing (replaced by the page worktree).
