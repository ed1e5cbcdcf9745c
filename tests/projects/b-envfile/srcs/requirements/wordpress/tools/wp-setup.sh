#!/bin/sh
set -e

if [ ! -f wp-config.php ]; then
    echo "installing wordpress files"
    cp -R /opt/wordpress/. .
    cat > wp-config.php << EOPHP
<?php
define('DB_NAME', '${MYSQL_DATABASE}');
define('DB_USER', '${MYSQL_USER}');
define('DB_PASSWORD', '${MYSQL_PASSWORD}');
define('DB_HOST', 'mariadb');
define('WP_HOME', '${WP_URL}');
define('WP_SITEURL', '${WP_URL}');
\$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
EOPHP
    chown -R www-data:www-data .
fi

exec "$@"
