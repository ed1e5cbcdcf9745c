#!/bin/sh
# Copies WordPress into the volume and writes wp-config.php, once.
set -e

if [ ! -f /var/www/wordpress/wp-config.php ]; then
	cp -R /usr/src/wordpress/. /var/www/wordpress/
	DB_PASS=$(cat /run/secrets/db_password)
	cat > /var/www/wordpress/wp-config.php <<PHP
<?php
define('DB_NAME', '$DB_NAME');
define('DB_USER', '$DB_USER');
define('DB_PASSWORD', '$DB_PASS');
define('DB_HOST', '$DB_HOST');
define('WP_HOME', 'https://$DOMAIN_NAME');
define('WP_SITEURL', 'https://$DOMAIN_NAME');
\$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
PHP
	chown -R www-data:www-data /var/www/wordpress
fi
exec php-fpm8.2 -F
