#!/usr/bin/env bash
# one step per line
mkdir -p /opt/app

apt-get install -y \
    nginx
  # an indented comment
apt-get update
apt-get update
echo a-very-long-command-line-that-goes-on-and-on-and-on-past-the-limit of names
