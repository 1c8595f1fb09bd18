"""Switchboard: a self-hosted call-control engine driving Asterisk over ARI and AMI."""

__version__ = "0.1.0"
