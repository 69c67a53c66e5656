#!/bin/sh
# install demo-app: the e2e test's script
umask 022

# step: files
mkdir -p /opt/app/bin
echo 'hello' > /opt/app/bin/hello

# step: service
cp /opt/app/bin/hello /etc/init.d/app
echo '* * * * * root true' > /etc/cron.d/app
# step:   burn cpu  
i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done
# step: noop
true
