"""The only place boto3 is imported: sessions, error mapping, EC2 and SSM calls."""
