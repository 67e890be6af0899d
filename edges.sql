INSERT INTO studies (name, cluster, created_at, updated_at)
	VALUES ('demo', 'local', 't', 't');
INSERT INTO sprints (id, study, cluster, state, directory, job_id,
	created_at)
	VALUES ('sp-000001', 'demo', 'local', 'completed', '/d', '1', 't');
