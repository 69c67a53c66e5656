#!/bin/sh
# An example install script for "virt-shadow shadow run", made for the
# quick start's tiny busybox guest.  Each "# step: NAME" block is one step:
# it runs as its own process (with "set -e"), so a "cd" or a variable does
# not carry over to the next step.
#
#   virt-shadow shadow run --app demo --version 1.0 --base vs-demo \
#       --script contrib/examples/shadow-install.sh --limits vcpus=1,memory=256M

# step: files
mkdir -p /opt/demo/bin /opt/demo/etc
printf '#!/bin/sh\necho "demo 1.0 serving"\n' > /opt/demo/bin/demo
chmod 755 /opt/demo/bin/demo
echo 'port=8080' > /opt/demo/etc/demo.conf

# step: service
printf '#!/bin/sh\nexec /opt/demo/bin/demo\n' > /etc/init.d/demo
chmod 755 /etc/init.d/demo
mkdir -p /etc/cron.d
echo '*/5 * * * * root /opt/demo/bin/demo' > /etc/cron.d/demo

# step: warm-cache
# a build or a cache warm-up: one vCPU busy for five seconds
end=$(( $(date +%s) + 5 ))
while [ "$(date +%s)" -lt "$end" ]; do :; done

# step: load-data
# 64 MiB held in memory (the tmpfs /tmp) for a few seconds
dd if=/dev/zero of=/tmp/demo-data bs=1M count=64 2>/dev/null
sleep 3
rm -f /tmp/demo-data

# step: self-check
# changes nothing: "profile optimize" drops it
/opt/demo/bin/demo >/dev/null
