"""Reports computed from the event history: the weekly status post, meeting agendas."""
