-- Which price a subscription is on, so people can see whether they pay monthly or yearly.
alter table subscriptions add column price_id text;
