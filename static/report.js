// Placeholder: report rendering (replaced by the page worktree).
