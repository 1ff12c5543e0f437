"""Read-only analysis shared by the reports of mailings and campaigns: message figures with their rates,
people's opens by hour, and the statistics of groups compared with a control group."""
