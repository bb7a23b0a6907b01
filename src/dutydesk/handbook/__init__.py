"""Each desk's own "how we work" page: Markdown, edited by its members, every version kept."""
