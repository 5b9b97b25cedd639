"""True fakes of the outside services the app talks to (Slack's Web API), owned by the tests."""
