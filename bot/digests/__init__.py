"""Scheduled reminders of what is waiting: schedules, jobs, queries, views."""
