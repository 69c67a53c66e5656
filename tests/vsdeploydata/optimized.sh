#!/bin/sh
# group: 1
# step: files
mkdir -p /opt/app
# group: 2 (steps 2 3 may run concurrently)
# step: service
touch /etc/init.d/app
# step: cron
touch /etc/cron.d/app
# group: 3
# step: config
echo x > /opt/app/conf
